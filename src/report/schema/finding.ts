/** A finding (CONTRACT.md 3 and 4): its code is one of the catalogue's. */
import { Type } from '@sinclair/typebox';
import { FINDING_CODES } from '../../findings/catalogue.js';
import { COMPONENTS, SEVERITIES } from '../vocabulary.js';
import { StringEnum } from './helpers.js';

export const FindingSchema = Type.Object({
  code: StringEnum(FINDING_CODES, 'A stable identifier from the finding catalogue (README: finding codes).'),
  severity: StringEnum(SEVERITIES),
  component: StringEnum(COMPONENTS),
  subject: Type.String({ minLength: 1, description: 'The interface, server or host:port concerned.' }),
  message: Type.String({ minLength: 1, description: 'What was observed, with the actual and the expected value.' }),
  guidance: Type.String({ minLength: 1, description: 'The next concrete step for the operator.' }),
});
