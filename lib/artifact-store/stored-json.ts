// Reading back a JSON record the pipeline stored: parsed against its schema, and anything else is a corrupt
// artifact whose error names the key and the way out.
import type { z } from 'zod';
import { CorruptArtifactError } from '../../common/errors.ts';
import { describeZodIssues } from '../../common/zod-issues.ts';

/** A JSON record this project wrote, parsed against its schema; anything else is a corrupt artifact. */
export function parseStoredJson<T>(bytes: Uint8Array, key: string, schema: z.ZodType<T>, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new CorruptArtifactError(`${key} is not JSON (${(err as Error).message}); delete it so the stage that writes ${what} runs again`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new CorruptArtifactError(`${key} is not ${what} (${describeZodIssues(parsed.error)}); delete it so the stage that writes it runs again`);
  return parsed.data;
}

