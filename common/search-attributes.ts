import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Custom search attributes the pipeline writes so runs are findable in the UI. infra/services.sh registers them
// on the dev server; register the same names on any other cluster.
export const SPTAR_STAGE = defineSearchAttributeKey('SptarStage', SearchAttributeType.KEYWORD);
export const SPTAR_DATASET = defineSearchAttributeKey('SptarDataset', SearchAttributeType.KEYWORD);
export const SPTAR_PROGRESS = defineSearchAttributeKey('SptarProgress', SearchAttributeType.DOUBLE);
export const SPTAR_CONFIG_HASH = defineSearchAttributeKey('SptarConfigHash', SearchAttributeType.KEYWORD);
