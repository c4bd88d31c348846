import { z } from 'zod';
import type { Permission } from '../db/database.ts';
import { PERMISSIONS } from './permissions.ts';

export const emailSchema = z
  .string()
  .trim()
  .min(3, 'is required')
  .max(254, 'is too long')
  .regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address, e.g. ops@example.com');

export const passwordSchema = z.string().min(8, 'must be at least 8 characters').max(1024, 'is too long');

/** A comma-separated permission list, e.g. "view_tools,publish_events". */
export const permissionListSchema = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(
        z.enum(PERMISSIONS as [Permission, ...Permission[]], {
          error: (issue) => `"${String(issue.input)}" is not a permission; use ${PERMISSIONS.join(', ')}`,
        }),
      )
      .min(1, `must name at least one of ${PERMISSIONS.join(', ')}`),
  )
  .transform((permissions) => [...new Set(permissions)]);

export const tokenNameSchema = z.string().trim().min(1, 'is required').max(100, 'is too long');
