// The tests' RFC 4180 reader lives beside the bench, which reads the sample's applications with it too.
export { parseCsv, type CsvTable } from '../../tools/bench/csv.js';
