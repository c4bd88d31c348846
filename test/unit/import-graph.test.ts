import { expect, test } from 'bun:test';
import { cycles, importGraph } from '../../scripts/import-graph.ts';

test('no two rooms of the code (src/<folder>, views) reach each other; views import only types from src/', async () => {
  const { edges, viewRuntimeImports } = await importGraph();
  expect(cycles(edges)).toEqual([]);
  expect(viewRuntimeImports).toEqual([]);
  // The graph is really read: the composition of the rooms shows in it.
  expect(edges.map((edge) => `${edge.from} -> ${edge.to}`)).toEqual(
    expect.arrayContaining(['src/deliveries -> src/delivery', 'src/integrations -> views', 'views -> src/db']),
  );
});

test('cycles() finds a loop through three rooms and leaves a chain alone', () => {
  const edge = (from: string, to: string) => ({ from, to, files: [] });
  expect(cycles([edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('c', 'd')])).toEqual([['a', 'b', 'c']]);
  expect(cycles([edge('a', 'b'), edge('b', 'c')])).toEqual([]);
});
