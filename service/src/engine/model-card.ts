/** The model card (`metadata.json`) written by training and served by `GET /model`. */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The models shipped in the repository, one directory each, relative to this file so it works from src and dist. */
export const SHIPPED_MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));
/** The shipped model a replica serves unless MODEL_DIR names another. */
export const DEFAULT_MODEL = 'v2';
export const DEFAULT_MODEL_DIR = join(SHIPPED_MODELS_DIR, DEFAULT_MODEL);

/** A version's name: its directory's name, safe in a path, a header and a metric label. */
export const VERSION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const versionOfDir = (dir: string): string => basename(dir.replace(/\/+$/, ''));

export interface ModelCard {
  name: string;
  version: string;
  parameters: number;
  flops_per_image: number;
  evaluation: { accuracy: number; test_images: number };
  [key: string]: unknown;
}

export async function readModelCard(dir: string): Promise<ModelCard> {
  const card = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')) as ModelCard;
  if (typeof card.name !== 'string' || typeof card.version !== 'string') {
    throw new Error(`${join(dir, 'metadata.json')} lacks a name and version`);
  }
  return card;
}
