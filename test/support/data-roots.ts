import { fileURLToPath } from 'node:url';

// The data roots of activities that unit tests build without worker settings: the checkout and the shared folder
// beside it (tokenizers, SciFact), as infra/env.sh gives the workers.
export const TEST_DATA_ROOTS = [fileURLToPath(new URL('../../', import.meta.url)), fileURLToPath(new URL('../../../shared/', import.meta.url))] as const;
