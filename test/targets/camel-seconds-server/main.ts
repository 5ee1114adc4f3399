import { runMain } from '../common/cli';
import { startCamelSecondsServer } from './server';

await runMain(startCamelSecondsServer);
