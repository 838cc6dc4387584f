import { EventEmitter } from 'node:events';
import { PARENT_POLL_MS, ParentProcess, watchParent } from './parent-watch';

/** A process seen from inside: its parent pid and, when spawned with IPC, a channel. */
function childProcess(withChannel: boolean) {
  const events = new EventEmitter();
  const unref = jest.fn();
  const proc = {
    ppid: 4242,
    channel: withChannel ? { unref } : undefined,
    once: (event: 'disconnect', listener: () => void) => events.once(event, listener),
    disconnect: () => events.emit('disconnect'),
  };
  return Object.assign(proc satisfies ParentProcess, { unref });
}

describe('watchParent (the simulator ends with the gateway that started it)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('stops the simulator once when the parent closes the IPC channel', () => {
    const proc = childProcess(true);
    const gone = jest.fn();
    watchParent(gone, proc);
    proc.disconnect();
    jest.advanceTimersByTime(5 * PARENT_POLL_MS);
    expect(gone).toHaveBeenCalledTimes(1);
    expect(gone.mock.calls[0][0]).toMatch(/IPC channel/);
    // The channel alone must not keep a finished simulator running.
    expect(proc.unref).toHaveBeenCalled();
  });

  it('stops the simulator when it is re-parented although the channel stayed open', () => {
    const proc = childProcess(true);
    const gone = jest.fn();
    watchParent(gone, proc);
    jest.advanceTimersByTime(3 * PARENT_POLL_MS);
    expect(gone).not.toHaveBeenCalled();
    proc.ppid = 1;
    jest.advanceTimersByTime(PARENT_POLL_MS);
    expect(gone).toHaveBeenCalledWith('parent 4242 is gone');
  });

  it('leaves a simulator started from a shell (no IPC channel) alone', () => {
    const proc = childProcess(false);
    const gone = jest.fn();
    watchParent(gone, proc);
    proc.ppid = 1;
    proc.disconnect();
    jest.advanceTimersByTime(5 * PARENT_POLL_MS);
    expect(gone).not.toHaveBeenCalled();
  });
});
