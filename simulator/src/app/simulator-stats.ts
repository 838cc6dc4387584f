// The shape of the simulator's running counters, shared by the fleet loop (simulator.ts, which
// fills it) and the progress line (progress.ts, which prints it). A leaf module so that neither
// imports the other for a type: owns the type only, no logic, and imports nothing.

export interface SimulatorStats {
  startedAt: number;
  now: number;
  devices: number;
  connections: number;
  connected: number;
  messages: number;
  readings: number;
  errors: number;
  skipped: number;
  dropouts: number;
  outages: number;
  /** Sample slots skipped because the process fell more than one interval behind. */
  lagged: number;
  lastError: string | null;
}
