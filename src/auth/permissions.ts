import type { Permission } from '../db/database.ts';

/** Every permission, in the order the UI lists them. */
export const PERMISSIONS: readonly Permission[] = ['view_tools', 'publish_events', 'manage_users'];
/** How the UI names each permission. */
export const PERMISSION_LABELS: Record<Permission, string> = {
  view_tools: 'View tools',
  publish_events: 'Publish events',
  manage_users: 'Manage users',
};
