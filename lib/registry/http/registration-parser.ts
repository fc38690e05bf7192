/**
 * Reads a registration body: the fast check (registration-fast-check.ts) for the common valid
 * body, the zod schema (registration-schema.ts) for everything else, so every refusal keeps the
 * schema's issues and every accepted body is what the schema would accept.
 */
import { createFastRegistrationCheck } from './registration-fast-check.js';
import {
  createRegistrationSchema,
  issuesOf,
  type RegistrationBody,
  type RegistrationLimits,
  type ValidationIssue,
} from './registration-schema.js';

/** A parsed body, or the schema's issues with it. */
export type RegistrationParse =
  | { success: true; data: RegistrationBody }
  | { success: false; issues: ValidationIssue[] };

/**
 * Builds the parser for the given limits.
 * @example const parse = createRegistrationParser({ maxNameLength: 64, maxRoutes: 256 }); parse(body).success
 */
export function createRegistrationParser(limits: RegistrationLimits): (body: unknown) => RegistrationParse {
  const schema = createRegistrationSchema(limits);
  const fast = createFastRegistrationCheck(limits);
  return (body) => {
    const data = fast(body);
    if (data !== undefined) return { success: true, data };
    const parsed = schema.safeParse(body);
    return parsed.success
      ? { success: true, data: parsed.data }
      : { success: false, issues: issuesOf(parsed.error.issues) };
  };
}
