/** The container-runtime probe lives in server/services/ (the PostgreSQL provider needs it too). */
export * from '../../server/services/container-runtime';
