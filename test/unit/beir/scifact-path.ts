// SciFact is shared data outside the repository; tests find it relative to the repository root.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const SCIFACT_DIR = fileURLToPath(new URL('../../../../shared/data/scifact', import.meta.url));
export const scifact = (name: string): string => join(SCIFACT_DIR, name);
