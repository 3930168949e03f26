// The Dockerfile's file set without a container engine: its stages are laid out as folders, each COPY done as the
// engine would (from the checkout, or from an earlier stage's folder), each build step RUN in its folder, and
// `npm ci` replaced by the checkout's installed packages: all of them for `npm ci`, only the production ones
// (`npm ls --omit=dev`) for `npm ci --omit=dev`, hard-linked, never downloaded. What the runtime stage ends up with is
// exactly what its COPY lines name, so a file the image lacks is missing here too.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PROJECT_ROOT } from '../../workers/dev-server.js';

export interface Instruction {
  keyword: string;
  /** The rest of the instruction, continuation lines joined. */
  text: string;
}

export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

/** Stages in order; an unnamed stage is named by its index. Comments and line continuations as Docker reads them. */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) continue;
    if (pending && line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const [keyword, ...rest] = line.split(/\s+/);
    const text = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(text);
      if (!match) throw new Error(`unreadable FROM: ${line}`);
      stages.push({ name: match[2] ?? String(stages.length), base: match[1], instructions: [] });
      continue;
    }
    if (stages.length === 0) throw new Error(`instruction before FROM: ${line}`);
    stages[stages.length - 1].instructions.push({ keyword: keyword.toUpperCase(), text });
  }
  return stages;
}

/** The exec form `["node", "x.js"]` of CMD, HEALTHCHECK … CMD and ENTRYPOINT. */
export function execForm(text: string): string[] {
  const json = text.slice(text.indexOf('['));
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) throw new Error(`not an exec form: ${text}`);
  return parsed;
}

/** ENV lines (`A=1 B=2` or `A 1`) of a stage, in order. */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { keyword, text } of stage.instructions) {
    if (keyword !== 'ENV') continue;
    if (!text.includes('=')) {
      const [name, ...value] = text.split(/\s+/);
      env[name] = value.join(' ');
      continue;
    }
    for (const pair of text.split(/\s+/).filter(Boolean)) {
      const index = pair.indexOf('=');
      env[pair.slice(0, index)] = pair.slice(index + 1).replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

/** Hard-links a file tree (symlinks recreated), skipping the top-level names in `skip`. */
function linkTree(from: string, to: string, skip: ReadonlySet<string> = new Set()): void {
  const stat = lstatSync(from);
  if (stat.isSymbolicLink()) {
    mkdirSync(dirname(to), { recursive: true });
    symlinkSync(readlinkSync(from), to);
  } else if (stat.isDirectory()) {
    mkdirSync(to, { recursive: true });
    for (const name of readdirSync(from)) if (!skip.has(name)) linkTree(join(from, name), join(to, name));
  } else {
    mkdirSync(dirname(to), { recursive: true });
    linkSync(from, to);
  }
}

/** node_modules with the production packages only, as `npm ci --omit=dev` installs them (nested ones included). */
function productionNodeModules(target: string): void {
  const listed = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: PROJECT_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  const packages = listed.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith(join(PROJECT_ROOT, 'node_modules')));
  if (packages.length === 0) throw new Error(`npm ls --omit=dev listed no package:\n${listed.stderr}`);
  for (const path of packages) linkTree(path, join(target, relative(PROJECT_ROOT, path)), new Set(['node_modules']));
}

export interface LaidOutStage {
  dir: string;
  env: Record<string, string>;
  stage: Stage;
}

const WORKDIR = '/app';
/** Marks a stage folder laid out completely (outside /app's content: a file the image never has). */
const DONE = '.stage-laid-out';

/** Where a path of a stage's image lands in its folder (only /app, the image's WORKDIR, is laid out). */
function inStage(stageDir: string, imagePath: string): string {
  const absolute = imagePath.startsWith('/') ? imagePath : `${WORKDIR}/${imagePath}`;
  const normalized = resolve(absolute);
  if (normalized !== WORKDIR && !normalized.startsWith(`${WORKDIR}/`)) throw new Error(`only ${WORKDIR} is laid out, not ${imagePath}`);
  return join(stageDir, relative(WORKDIR, normalized));
}

export interface LayoutOptions {
  /** Folder that receives one sub-folder per stage. */
  root: string;
  /** Build steps' output goes here (a failed step throws with it). */
  log?: (line: string) => void;
}

/**
 * Lays out every stage of `dockerfile` under `root` and returns the last (the runtime image). RUN steps are executed in
 * stages that build (those without apt-get); the runtime stage's RUN lines install system packages and create the
 * volume mount points outside /app, which the host provides.
 */
export function layOutImage(dockerfile: string, options: LayoutOptions): LaidOutStage {
  const stages = parseDockerfile(dockerfile);
  const laid = new Map<string, LaidOutStage>();
  let last: LaidOutStage | undefined;
  for (const stage of stages) {
    // Named by the stage's instructions and the stages it copies from: a stage laid out before under the same root (an
    // unchanged build stage of a mutated Dockerfile) is reused, not built again.
    const from = stage.instructions.flatMap(({ text }) => /--from=(\S+)/.exec(text)?.[1] ?? []).map((name) => laid.get(name)?.dir ?? name);
    const key = createHash('sha256').update(JSON.stringify({ stage, from })).digest('hex').slice(0, 12);
    const dir = join(options.root, `${stage.name}-${key}`);
    const env = stageEnv(stage);
    if (existsSync(join(dir, DONE))) {
      last = { dir, env, stage };
      laid.set(stage.name, last);
      continue;
    }
    rmSync(dir, { recursive: true, force: true }); // what a failed attempt left
    mkdirSync(dir, { recursive: true });
    const isRuntime = stage === stages[stages.length - 1];
    for (const { keyword, text } of stage.instructions) {
      if (keyword === 'WORKDIR' && text !== WORKDIR) throw new Error(`the layout knows WORKDIR ${WORKDIR} only, not ${text}`);
      if (keyword === 'COPY') {
        const parts = text.split(/\s+/);
        const from = parts.find((part) => part.startsWith('--from='))?.slice('--from='.length);
        const paths = parts.filter((part) => !part.startsWith('--'));
        const destination = paths.pop()!;
        for (const source of paths) {
          let origin: string;
          if (from) {
            const fromStage = laid.get(from);
            if (!fromStage) throw new Error(`COPY --from=${from}: no earlier stage of that name`);
            origin = inStage(fromStage.dir, source);
          } else {
            origin = join(PROJECT_ROOT, source);
          }
          if (!existsSync(origin)) throw new Error(`COPY ${text}: ${source} does not exist${from ? ` in stage ${from}` : ' in the checkout'}`);
          const target = destination.endsWith('/') && !lstatSync(origin).isDirectory() ? join(inStage(dir, destination), source.split('/').pop()!) : inStage(dir, destination);
          linkTree(origin, target);
        }
      }
      if (keyword === 'RUN') {
        if (isRuntime || /apt-get/.test(text)) continue;
        if (/\bnpm ci\b/.test(text)) {
          if (/--omit=dev/.test(text)) productionNodeModules(dir);
          else symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'));
          continue;
        }
        const run = spawnSync('sh', ['-c', text], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
        options.log?.(`RUN ${text} (stage ${stage.name}): exit ${run.status}\n${run.stdout}${run.stderr}`);
        if (run.status !== 0) throw new Error(`RUN ${text} failed in stage ${stage.name} (exit ${run.status}):\n${(run.stdout + run.stderr).slice(-3000)}`);
      }
    }
    writeFileSync(join(dir, DONE), '');
    last = { dir, env, stage };
    laid.set(stage.name, last);
  }
  if (!last) throw new Error('the Dockerfile has no stage');
  return last;
}

/** The instruction of `keyword` in a stage (the last one, as Docker uses), or undefined. */
export function lastInstruction(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword).pop();
}
