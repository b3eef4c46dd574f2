/**
 * Files the server ships beside its code (server/assets). This module sits one
 * folder below the package in the sources (src/) and in the build (dist/), so
 * the same relative path finds them in a checkout and in an installed server.
 */
import path from 'node:path';

export const ASSETS_DIR = path.resolve(import.meta.dirname, '../assets');
/** The podcast's cover: 1400 × 1400 PNG, as podcast directories ask. */
export const PODCAST_IMAGE = path.join(ASSETS_DIR, 'podcast.png');
