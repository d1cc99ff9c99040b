/**
 * Where the shared test data is: `../shared/data` beside the repository, or the folder `SHARED_DATA_DIR`
 * names. Deliberately not a `SIEM_*` variable: `siem-lite` reads every `SIEM_*` variable as a config key and
 * refuses an unknown one, so a data path left in an operator's shell would keep `serve` from starting.
 */
import { fileURLToPath } from 'node:url';

export const SHARED_DATA =
  process.env.SHARED_DATA_DIR ?? fileURLToPath(new URL('../../../shared/data', import.meta.url));
