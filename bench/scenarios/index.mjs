// The scenarios in the order they run and their checklist is printed, and the quick (CI smoke)
// sizes applied once. Owns the list and its order; must not hold a scenario's contents (each
// lives in its own file) nor run anything.
import fanout1000 from './fanout-1000.mjs';
import rate20k from './rate-20k.mjs';
import fanout100 from './fanout-100.mjs';
import light100 from './light-100.mjs';
import ingest from './ingest.mjs';
import polling1000 from './polling-1000.mjs';
import idle10k from './idle-10k.mjs';
import stall from './stall.mjs';
import overload from './overload.mjs';
import reconnect5k from './reconnect-5k.mjs';
import history from './history.mjs';
import scaleOut from './scale-out.mjs';

const ALL = [
  fanout1000,
  rate20k,
  fanout100,
  light100,
  ingest,
  polling1000,
  idle10k,
  stall,
  overload,
  reconnect5k,
  history,
  scaleOut,
];

export const SCENARIO_IDS = ALL.map((s) => s.id);

/**
 * Every scenario with its `quick` overrides applied when `quick` (the checklist marks quick
 * figures as such); `fullTargets` keeps the full run's targets, which `--targets` picks from.
 */
export function scenarios(quick) {
  return ALL.map((s) =>
    quick ? { ...s, ...s.quick, fullTargets: s.targets } : { ...s, fullTargets: s.targets },
  );
}
