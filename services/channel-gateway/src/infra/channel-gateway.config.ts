/** channel-gateway settings from the environment (README: Environment). */
export interface ChannelGatewayConfig {
  /** order-intake's REST base URL. */
  orderIntakeUrl: string;
}

export function channelGatewayConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ChannelGatewayConfig {
  return { orderIntakeUrl: env.ORDER_INTAKE_URL ?? 'http://127.0.0.1:3001' };
}
