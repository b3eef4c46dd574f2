import { Type } from '@sinclair/typebox';

/**
 * The optional `commune` of a list query (only this commune's rows) or of a
 * create body (the commune the row is made in). A province user names one; a
 * commune user may leave it out or name their own (tenancy/communes.ts).
 */
export const CommuneField = Type.Optional(
  Type.String({
    minLength: 1,
    maxLength: 64,
    description: 'a commune id (province users choose; commune users: their own)',
  }),
);
