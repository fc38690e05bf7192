/** The logger shape every component accepts. The library logs nothing by default. */
export type Logger = Pick<Console, 'info' | 'warn' | 'error'>;

/** A logger that drops everything: the library default. */
export const noopLogger: Logger = {
  info: () => {},
  warn: () => {},
  error: () => {},
};
