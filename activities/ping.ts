import os from 'node:os';

/** The smoke activity: answers from the worker's process, so a reply proves a worker ran it. */
export function createSmokeActivities() {
  return {
    async ping(name: string): Promise<string> {
      return `pong ${name} from worker pid ${process.pid} on ${os.hostname()}`;
    },
  };
}

export type SmokeActivities = ReturnType<typeof createSmokeActivities>;
