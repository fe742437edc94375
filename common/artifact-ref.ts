import { z } from 'zod';

// A reference to one stored artifact: what Temporal carries instead of data.
export const artifactRefSchema = z
  .object({
    key: z.string().min(1).describe('Object key inside the artifact store, derived from the inputs that made it'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).describe('Hex sha256 of the stored bytes'),
    bytes: z.number().int().nonnegative().describe('Size in bytes'),
  })
  .strict();
export type ArtifactRef = z.infer<typeof artifactRefSchema>;
