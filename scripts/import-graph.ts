import { Glob } from 'bun';
import { dirname, relative, resolve } from 'node:path';

/*
 * `bun scripts/import-graph.ts`: the imports between the rooms of the code
 * (each top-level folder of src/, and views/), and whether any two rooms
 * reach each other. Type-only imports count too: a cycle of types still
 * means neither room can be read, or moved, without the other. Exits 1 and
 * names the files behind each edge of a cycle.
 */

const ROOT = resolve(import.meta.dir, '..');
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

/** The room a file belongs to: `src/<folder>`, `views`, or none (src/*.ts at the top, the composition root). */
export function roomOf(file: string): string | undefined {
  const path = relative(ROOT, file).split('/');
  if (path[0] === 'views') return 'views';
  if (path[0] === 'src' && path.length > 2) return `src/${path[1]}`;
  return undefined;
}

/** A view importing code (not a type) from src/: views take their data as props. */
export interface ViewRuntimeImport {
  file: string;
  specifier: string;
}

export interface Edge {
  from: string;
  to: string;
  files: string[];
}

export async function importGraph(): Promise<{ edges: Edge[]; viewRuntimeImports: ViewRuntimeImport[] }> {
  const edges = new Map<string, Edge>();
  const viewRuntimeImports: ViewRuntimeImport[] = [];
  for (const pattern of ['src/**/*.{ts,tsx}', 'views/**/*.{ts,tsx}']) {
    for await (const path of new Glob(pattern).scan(ROOT)) {
      const file = resolve(ROOT, path);
      const from = roomOf(file);
      if (!from) continue;
      const text = await Bun.file(file).text();
      for (const match of text.matchAll(IMPORT)) {
        const specifier = match[1] ?? match[2]!;
        if (!specifier.startsWith('.')) continue;
        const to = roomOf(resolve(dirname(file), specifier));
        if (!to || to === from) continue;
        if (from === 'views' && to.startsWith('src/') && !/^\s*(import|export)\s+type\s/.test(match[0])) {
          viewRuntimeImports.push({ file: relative(ROOT, file), specifier });
        }
        const key = `${from} -> ${to}`;
        const edge = edges.get(key) ?? { from, to, files: [] };
        edge.files.push(relative(ROOT, file));
        edges.set(key, edge);
      }
    }
  }
  return {
    edges: [...edges.values()].sort((a, b) => `${a.from}${a.to}`.localeCompare(`${b.from}${b.to}`)),
    viewRuntimeImports,
  };
}

/** The groups of rooms that reach each other (strongly connected, more than one room). */
export function cycles(edges: Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const edge of edges) next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  const rooms = [...new Set(edges.flatMap((edge) => [edge.from, edge.to]))].sort();
  const reaches = (start: string) => {
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length)
      for (const room of next.get(stack.pop()!) ?? []) {
        if (seen.has(room)) continue;
        seen.add(room);
        stack.push(room);
      }
    return seen;
  };
  const reach = new Map(rooms.map((room) => [room, reaches(room)]));
  const groups: string[][] = [];
  const placed = new Set<string>();
  for (const room of rooms) {
    if (placed.has(room)) continue;
    const group = rooms.filter(
      (other) => other === room || (reach.get(room)!.has(other) && reach.get(other)!.has(room)),
    );
    for (const member of group) placed.add(member);
    if (group.length > 1) groups.push(group);
  }
  return groups;
}

if (import.meta.main) {
  const { edges, viewRuntimeImports } = await importGraph();
  const found = cycles(edges);
  for (const edge of edges) process.stdout.write(`${edge.from} -> ${edge.to} (${edge.files.length})\n`);
  for (const bad of viewRuntimeImports)
    process.stdout.write(
      `\nviews import code from src/: ${bad.file} imports ${bad.specifier} (pass the data as props)\n`,
    );
  if (found.length === 0) {
    process.stdout.write('no cycles between rooms\n');
    if (viewRuntimeImports.length > 0) process.exit(1);
  } else {
    for (const group of found) {
      process.stdout.write(`\ncycle: ${group.join(' ⇄ ')}\n`);
      for (const edge of edges.filter((e) => group.includes(e.from) && group.includes(e.to))) {
        process.stdout.write(`  ${edge.from} -> ${edge.to}: ${[...new Set(edge.files)].join(', ')}\n`);
      }
    }
    process.exit(1);
  }
}
