// One pulso server (in-memory database) for every unit test file.
import type { TestProject } from 'vitest/node';
import { startPulso } from './pulso-server';

declare module 'vitest' {
  export interface ProvidedContext {
    pulsoUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await startPulso();
  project.provide('pulsoUrl', server.url);
  return server.stop;
}
