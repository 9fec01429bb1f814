// Reply schemas several routes share. A route's response schema is its reply's type (the TypeBox
// type provider checks the handler against it) and what fastify serialises: nothing else leaks out.
import Type from 'typebox';

/** A change that has nothing to report but that it was done. */
export const Done = { 200: Type.Object({ ok: Type.Boolean() }) };
