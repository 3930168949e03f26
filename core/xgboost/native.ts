// The C API of libxgboost (1.7.x) bound through koffi: one lazily loaded library, one typed function table.
// Every function returning an error code goes through `check`, which turns a non-zero code into an XGBoostError
// with XGBGetLastError's message.
import koffi, { type LibraryHandle } from 'koffi';
import { XGBoostError } from '../../lib/errors.js';
import { configVariablesSchema } from '../../lib/config.js';

/** An opaque native handle (koffi 3 represents pointers as BigInt). */
export type Handle = bigint;

// Names tried when neither an explicit path nor XGBOOST_LIBRARY is given: Debian's soname first, then the
// development symlink, then Homebrew's dylib.
const DEFAULT_CANDIDATES = [
  'libxgboost.so.0',
  'libxgboost.so',
  '/opt/homebrew/lib/libxgboost.dylib',
  '/usr/local/lib/libxgboost.dylib',
  'libxgboost.dylib',
];

function bind(lib: LibraryHandle) {
  return {
    XGBoostVersion: lib.func('void XGBoostVersion(_Out_ int *major, _Out_ int *minor, _Out_ int *patch)'),
    XGBGetLastError: lib.func('const char *XGBGetLastError()'),
    XGDMatrixCreateFromMat: lib.func(
      'int XGDMatrixCreateFromMat(const float *data, uint64_t nrow, uint64_t ncol, float missing, _Out_ void **out)',
    ),
    XGDMatrixFree: lib.func('int XGDMatrixFree(void *handle)'),
    XGDMatrixSetFloatInfo: lib.func(
      'int XGDMatrixSetFloatInfo(void *handle, const char *field, const float *array, uint64_t len)',
    ),
    XGBoosterCreate: lib.func('int XGBoosterCreate(void **dmats, uint64_t len, _Out_ void **out)'),
    XGBoosterFree: lib.func('int XGBoosterFree(void *handle)'),
    XGBoosterSetParam: lib.func('int XGBoosterSetParam(void *handle, const char *name, const char *value)'),
    XGBoosterUpdateOneIter: lib.func('int XGBoosterUpdateOneIter(void *handle, int iter, void *dtrain)'),
    XGBoosterEvalOneIter: lib.func(
      'int XGBoosterEvalOneIter(void *handle, int iter, void **dmats, const char **names, uint64_t len, _Out_ const char **out)',
    ),
    XGBoosterPredictFromDMatrix: lib.func(
      'int XGBoosterPredictFromDMatrix(void *handle, void *dmat, const char *config, _Out_ void **out_shape, _Out_ uint64_t *out_dim, _Out_ void **out_result)',
    ),
    XGBoosterSaveModelToBuffer: lib.func(
      'int XGBoosterSaveModelToBuffer(void *handle, const char *config, _Out_ uint64_t *out_len, _Out_ void **out_dptr)',
    ),
    XGBoosterLoadModelFromBuffer: lib.func('int XGBoosterLoadModelFromBuffer(void *handle, const uint8_t *buf, uint64_t len)'),
    XGBoosterSlice: lib.func('int XGBoosterSlice(void *handle, int begin, int end, int step, _Out_ void **out)'),
    XGBoosterBoostedRounds: lib.func('int XGBoosterBoostedRounds(void *handle, _Out_ int *out)'),
    XGBoosterFeatureScore: lib.func(
      'int XGBoosterFeatureScore(void *handle, const char *config, _Out_ uint64_t *out_n_features, _Out_ void **out_features, _Out_ uint64_t *out_dim, _Out_ void **out_shape, _Out_ void **out_scores)',
    ),
  };
}

export type XGBoostApi = ReturnType<typeof bind>;

let loaded: { api: XGBoostApi; path: string } | undefined;

/** XGBOOST_LIBRARY as lib/config.ts declares it (the one schema of every setting), or undefined when unset. */
function xgboostLibraryFromEnvironment(): string | undefined {
  const value = process.env.XGBOOST_LIBRARY;
  return value ? configVariablesSchema.shape.XGBOOST_LIBRARY.parse(value) : undefined;
}

/**
 * Loads libxgboost once per process. `libraryPath` (or XGBOOST_LIBRARY, validated by the configuration's own schema)
 * wins over the default names; a later call with a different explicit path than the loaded one is refused rather
 * than silently ignored.
 */
export function loadXGBoost(libraryPath: string | undefined = xgboostLibraryFromEnvironment()): XGBoostApi {
  if (loaded) {
    if (libraryPath && libraryPath !== loaded.path) {
      throw new XGBoostError(`libxgboost is already loaded from ${loaded.path}; cannot switch to ${libraryPath}`);
    }
    return loaded.api;
  }
  preferPassiveOpenMpWait();
  const candidates = libraryPath ? [libraryPath] : DEFAULT_CANDIDATES;
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      const api = bind(koffi.load(candidate));
      loaded = { api, path: candidate };
      return api;
    } catch (error) {
      failures.push(`  ${candidate}: ${(error as Error).message}`);
    }
  }
  throw new XGBoostError(
    `libxgboost could not be loaded. On Debian/Ubuntu install the packages libxgboost0 and libxgboost-dev ` +
      `(apt-get install libxgboost0 libxgboost-dev); on macOS 'brew install xgboost'; or set XGBOOST_LIBRARY ` +
      `to the path of libxgboost.so / libxgboost.dylib.\nTried:\n${failures.join('\n')}`,
  );
}

/**
 * libgomp reads OMP_WAIT_POLICY once, when libxgboost pulls it in. Its default (spinning) makes training several times
 * slower whenever the cores are shared (a worker running other activities, parallel tests); measured 4-20x on the
 * 2-core machine under load. An explicit setting in the environment is respected. Call it on the main thread before
 * a worker thread loads the library: a worker thread's process.env is a copy that never reaches the C environment.
 */
export function preferPassiveOpenMpWait(): void {
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
}

/** The path libxgboost was loaded from, if it has been loaded. */
export function loadedLibraryPath(): string | undefined {
  return loaded?.path;
}

/** Throws an XGBoostError with XGBoost's last error message when a C API call returned non-zero. */
export function check(api: XGBoostApi, code: number, call: string): void {
  if (code !== 0) {
    const message = (api.XGBGetLastError() as string | null) || `failed with code ${code}`;
    throw new XGBoostError(message, call);
  }
}

/** Copies `length` floats out of native memory owned by XGBoost (valid only until its next call). */
export function copyFloats(pointer: Handle, length: number): Float32Array {
  if (length === 0) return new Float32Array(0);
  return new Float32Array(koffi.view(pointer, length * 4).slice(0));
}

/** Copies `length` bytes out of native memory owned by XGBoost. */
export function copyBytes(pointer: Handle, length: number): Uint8Array {
  if (length === 0) return new Uint8Array(0);
  return new Uint8Array(koffi.view(pointer, length).slice(0));
}

/** Decodes a `const char **` array of `length` C strings. */
export function decodeStrings(pointer: Handle, length: number): string[] {
  if (length === 0) return [];
  return koffi.decode(pointer, 'const char *', length) as string[];
}

/** Decodes a `const uint64_t *` array. */
export function decodeUint64s(pointer: Handle, length: number): number[] {
  if (length === 0) return [];
  return Array.from(koffi.decode(pointer, 'uint64_t', length) as ArrayLike<number | bigint>, Number);
}
