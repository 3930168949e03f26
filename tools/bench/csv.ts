// A small RFC 4180 reader for test oracles and the serving bench (quoted fields may hold commas and doubled quotes).
// Independent of the product's DuckDB CSV reading on purpose: tests compare the two.
export interface CsvTable {
  header: string[];
  rows: Record<string, string>[];
}

export function parseCsv(text: string): CsvTable {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(field);
      field = '';
    } else if (char === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else if (char !== '\r') field += char;
  }
  if (field !== '' || record.length > 0) records.push([...record, field]);
  const [header, ...body] = records.filter((values) => values.length > 1 || values[0] !== '');
  return { header, rows: body.map((values) => Object.fromEntries(header.map((name, i) => [name, values[i] ?? '']))) };
}
