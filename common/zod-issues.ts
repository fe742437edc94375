import type { z } from 'zod';

/** "path: message; path: message": short enough for a one-line error. */
export function describeZodIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'row'}: ${i.message}`).join('; ');
}
