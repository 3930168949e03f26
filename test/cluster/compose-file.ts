// docker-compose.temporal.yml as data. The project has no YAML parser among its npm packages: PyYAML's safe_load
// (Python 3 with PyYAML is on this machine kind) reads it, anchors and merge keys included, and hands JSON over.
import { execFileSync } from 'node:child_process';

export interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  entrypoint?: string[];
  command?: string[] | string;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export function readCompose(path: string): ComposeFile {
  const program = 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)';
  let text: string;
  try {
    text = execFileSync('python3', ['-c', program, path], { encoding: 'utf8' });
  } catch (error) {
    throw new Error(`could not read ${path} with python3 + PyYAML (pip install pyyaml, or Debian's python3-yaml): ${(error as Error).message}`);
  }
  return JSON.parse(text) as ComposeFile;
}
