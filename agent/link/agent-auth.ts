import { checkBearerToken } from '../http/token-check.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import type { HttpClient, SecretValue } from '../plugin-api/index.ts';

/** The read-only call of the control-plane protocol that checks the agent token. */
export const CONTROL_PLANE_GET_AGENT = 'GET /v1/agents/{agentId}';

/**
 * Asks the control plane whether it accepts `controlPlane.agentToken` for this agent
 * (`GET {url}/v1/agents/{agentId}`: leases nothing, records no heartbeat). A 401 or 403 throws
 * CONTROL_PLANE_REJECTED naming the setting; the token is never in the message.
 */
export async function checkAgentToken(options: {
  readonly http: HttpClient;
  /** `controlPlane.url`, without a trailing slash. */
  readonly baseUrl: string;
  readonly agentId: string;
  readonly token: SecretValue;
  readonly signal: AbortSignal;
}): Promise<string> {
  const verdict = await checkBearerToken({
    http: options.http,
    url: `${options.baseUrl}/v1/agents/${encodeURIComponent(options.agentId)}`,
    endpoint: CONTROL_PLANE_GET_AGENT,
    token: options.token,
    signal: options.signal,
  });
  if (verdict.kind === 'refused') {
    throw new PerimeterError(
      'CONTROL_PLANE_REJECTED',
      `The control plane refused the token of controlPlane.agentToken for agent ${options.agentId} (HTTP ${verdict.status}). Check the secret controlPlane.agentToken refers to and agent.id`,
      { context: { setting: 'controlPlane.agentToken', status: verdict.status, refused: true } },
    );
  }
  return verdict.kind === 'accepted'
    ? `controlPlane.agentToken accepted for agent ${options.agentId}`
    : `reachable, token not checked (${CONTROL_PLANE_GET_AGENT} answered HTTP ${verdict.status})`;
}
