import { customerSupport } from './customer-support';
import { researchAssistant } from './research-assistant';
import type { Scenario } from './scenario';

export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  [customerSupport.name]: customerSupport,
  [researchAssistant.name]: researchAssistant,
};
