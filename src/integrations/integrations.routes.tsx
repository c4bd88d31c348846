import { Hono } from 'hono';
import { EventStreamPage } from '../../views/integrations/list.tsx';

/** Tools > Event Stream pages. */
export function integrationPages() {
  return new Hono().get('/', (c) => c.render(<EventStreamPage />, { title: 'Event Stream', section: 'event-stream' }));
}
