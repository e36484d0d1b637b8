// The fault scenarios run one after another in one file: each starts an agent as a child
// process, and several starting at once on a busy machine would measure the machine, not the
// agent. Each scenario module registers its own describe block.
import './redis-pause.scenario.ts';
import './catalog.scenario.ts';
import './control-plane.scenario.ts';
import './clock-skew.scenario.ts';
import './source-stall.scenario.ts';
import './secret-store.scenario.ts';
import './disk-full.scenario.ts';
