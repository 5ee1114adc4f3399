/**
 * The PostgreSQL provider lives in server/services/ (the reference server runs standalone on it, and
 * server/ sits below harness/ in the layering); the harness reaches it here.
 */
export * from '../../../server/services/postgres';
