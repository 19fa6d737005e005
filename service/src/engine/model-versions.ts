/**
 * The versions of the model a replica serves side by side (as Triton's and TorchServe's model
 * repositories do): each version is a directory, named by its directory, with an engine and a
 * batcher of its own, since one model run takes inputs of one model only. A version is loaded,
 * warmed and checked on known digits before it serves a request; loading one that is already
 * served swaps its engine between two batches and frees the old one's tensors.
 */
import { ApiError } from '../http/errors.ts';
import type { BackendName } from './backend.ts';
import { Batcher, type BatcherOptions } from './batcher.ts';
import { createEngine, type Engine } from './engine.ts';
import { VERSION_NAME } from './model-card.ts';
import { checkOnKnownDigits, type KnownDigits } from './known-digits.ts';

export interface ServedVersion {
  readonly name: string;
  readonly dir: string;
  readonly engine: Engine;
  readonly batcher: Batcher;
}

export interface ModelVersionsOptions {
  backend: BackendName;
  batcher: BatcherOptions;
  knownDigits: KnownDigits;
  /** Least share of the known digits a version must classify right to be served. */
  minAccuracy: number;
  /** Most versions loaded at once: each holds its weights and a batcher, and labels metrics. */
  maxVersions: number;
}

/** Why a model directory was not taken; the versions served are untouched. */
export class ModelRefusedError extends Error {}

export class ModelVersions {
  private readonly served = new Map<string, ServedVersion>();
  private loading = Promise.resolve();

  /** Serves nothing until `defaultName` is loaded. */
  constructor(
    private readonly options: ModelVersionsOptions,
    private defaultName: string,
  ) {}

  get defaultVersion(): string {
    return this.defaultName;
  }

  names(): string[] {
    return [...this.served.keys()].sort();
  }

  /** Every version served, the default first. */
  list(): ServedVersion[] {
    return [this.defaultName, ...this.names().filter((n) => n !== this.defaultName)].map((n) => this.get(n));
  }

  /** The version asked for, or the default one; an unknown name is the client's 404. */
  get(name?: string): ServedVersion {
    const wanted = name ?? this.defaultName;
    // Every request asks: it gets the stored entry itself, not a copy.
    const slot = this.served.get(wanted);
    if (!slot) {
      throw new ApiError(
        'unknown_version',
        `no model version "${wanted}"; this replica serves ${this.names().join(', ')}`,
      );
    }
    return slot;
  }

  /** Inputs waiting in every version's queue. */
  get depth(): number {
    let depth = 0;
    for (const slot of this.served.values()) depth += slot.batcher.depth;
    return depth;
  }

  /**
   * Serves `dir` as version `name`: loaded, warmed and checked on the known digits first. A new
   * name gets a batcher of its own; a name already served keeps its batcher and queue, and its
   * engine is swapped between two batches (a batch runs synchronously, so none is under way
   * here), then the old engine's tensors are freed. Loads run one at a time.
   */
  load(name: string, dir: string): Promise<{ replaced: boolean; accuracy: number }> {
    const run = this.loading.then(() => this.loadNow(name, dir));
    this.loading = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async loadNow(name: string, dir: string): Promise<{ replaced: boolean; accuracy: number }> {
    if (!VERSION_NAME.test(name))
      throw new ModelRefusedError(`"${name}" is not a version name (${VERSION_NAME.source})`);
    const existing = this.served.get(name);
    if (!existing && this.served.size >= this.options.maxVersions) {
      throw new ModelRefusedError(
        `${this.served.size} versions are served, the most MAX_MODEL_VERSIONS allows; unload one first`,
      );
    }
    let engine: Engine;
    try {
      engine = await createEngine({ modelDir: dir, backend: this.options.backend });
    } catch (err) {
      throw new ModelRefusedError(modelProblem(err));
    }
    const accuracy = checkOnKnownDigits(engine, this.options.knownDigits);
    if (accuracy < this.options.minAccuracy) {
      engine.dispose();
      throw new ModelRefusedError(
        `it classifies ${(accuracy * 100).toFixed(1)}% of ${this.options.knownDigits.labels.length} known digits right, below the ${(this.options.minAccuracy * 100).toFixed(1)}% required (MODEL_MIN_ACCURACY)`,
      );
    }
    if (existing) {
      existing.batcher.useEngine(engine);
      this.served.set(name, { name, dir, engine, batcher: existing.batcher });
      existing.engine.dispose();
    } else {
      this.served.set(name, { name, dir, engine, batcher: new Batcher(engine, this.options.batcher) });
    }
    return { replaced: existing !== undefined, accuracy };
  }

  /** Stops serving `name` once its queue has drained; the default version cannot be unloaded. */
  async unload(name: string): Promise<void> {
    const slot = this.served.get(name);
    if (!slot) throw new ModelRefusedError(`no model version "${name}" is served`);
    if (name === this.defaultName) {
      throw new ModelRefusedError(`"${name}" is the default version; make another the default first`);
    }
    this.served.delete(name);
    await slot.batcher.drained();
    slot.engine.dispose();
  }

  /** Makes a served version the one requests get when they name none. */
  setDefault(name: string): void {
    if (!this.served.has(name)) throw new ModelRefusedError(`no model version "${name}" is served`);
    this.defaultName = name;
  }

  dispose(): void {
    for (const slot of this.served.values()) slot.engine.dispose();
    this.served.clear();
  }
}

/** Why a model directory could not be served, in a sentence. */
function modelProblem(err: unknown): string {
  const { code, path, message } = err as NodeJS.ErrnoException;
  if (code === 'ENOENT') {
    return `no model there: ${path} is missing (a model directory holds model.json, weights.bin and metadata.json, as service/models/v1 and v2 do)`;
  }
  return `not a model this service can serve: ${message}`;
}
