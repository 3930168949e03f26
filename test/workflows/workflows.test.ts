// Every workflow's branches with mocked activities, in one process: one dev server and one workflow bundle serve
// all of them (each file can also run alone: node --import tsx --test test/workflows/training.ts).
import './training.js';
import './backfill.js';
import './model-lifecycle.js';
import './scoring-and-monitoring.js';
import './backfill-progress.js';
