// Datasets by name: the registry of archives sptar can fetch, and the fetch that checks and unpacks them.
export { DEFAULT_DATASET_BASE_URL, KNOWN_DATASETS, archiveUrl, datasetEntrySchema, findDataset, formatBytes } from './dataset-registry.ts';
export type { ArchivePin, DatasetEntry } from './dataset-registry.ts';
export { DatasetError, type DatasetErrorKind } from './dataset-errors.ts';
export { DATASET_MARKER_FILE, datasetFolderState, datasetMarkerSchema } from './dataset-marker.ts';
export type { DownloadProgress } from './archive-download.ts';
export { ensureDataset, registryPin } from './fetch-dataset.ts';
export type { EffectivePin, FetchDatasetOptions, FetchDatasetResult } from './fetch-dataset.ts';
