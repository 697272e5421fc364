/**
 * "Leave things out until it fits": the twin, the telemetry message and the method response each
 * have a size limit, and each drops its least important entries from the end of a list until the
 * whole is inside it.
 */

/**
 * Removes items from the end of `items` (in place) until `fits()` holds or none is left; returns
 * how many went. `counted(n)` hears the running count after each removal, for a document that
 * carries its own "n left out" field (whose size then counts in the next `fits()`).
 */
export function popUntil(items: unknown[], fits: () => boolean, counted?: (removed: number) => void): number {
  let removed = 0;
  while (!fits() && items.length > 0) {
    items.pop();
    removed++;
    counted?.(removed);
  }
  return removed;
}
