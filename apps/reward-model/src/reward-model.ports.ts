import type { ArtifactStore } from '@studio/ports';
import type { PreferenceRepositories } from '@studio/preferences';

/** Injection tokens of the service's repositories (its own database) and of the shared artifact folder. */
export const PREFERENCES_REPOSITORY = Symbol('PREFERENCES_REPOSITORY');
export const RESOLUTIONS_REPOSITORY = Symbol('RESOLUTIONS_REPOSITORY');
export const PREFERENCE_DATASETS_REPOSITORY = Symbol('PREFERENCE_DATASETS_REPOSITORY');
export const ARTIFACTS = Symbol('ARTIFACTS');

/** The three repositories together, as the preference use cases take them. */
export const PREFERENCE_REPOSITORIES = Symbol('PREFERENCE_REPOSITORIES');
export type { PreferenceRepositories };
export type Artifacts = ArtifactStore;
