// Import first, before anything loads DuckDB: its allocator (jemalloc, bundled in libduckdb) reads its options once,
// from DUCKDB_JE_MALLOC_CONF, when the library is loaded. Serving runs the same feature query on a handful of rows at
// a time, and most of an execution is setting its operators and expressions up and tearing them down: a few hundred
// vectors of 16-32 KB (2,048 values) allocated and freed per query. jemalloc's thread cache keeps 20 freed blocks of a
// size class by default; the rest went back through the arena (its extent search, locks and decay purges) and came
// out again at the next query. Keeping up to 2,048 cut one application's query by about a tenth of its CPU time
// (tools/bench/online-features.ts). An operator's own DUCKDB_JE_MALLOC_CONF wins.
process.env.DUCKDB_JE_MALLOC_CONF ??= 'tcache_nslots_large:2048';
