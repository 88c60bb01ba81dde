import { Controller, Get, Headers, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { type ConsoleConfig, UPSTREAMS } from './console.config';
import { CONSOLE_CONFIG } from './console.module.tokens';
import { actorFrom } from './identity';

class ConsoleActorDto {
  @ApiProperty() id!: string;
  @ApiProperty() role!: string;
}

class SessionDto {
  @ApiPropertyOptional({ type: ConsoleActorDto, nullable: true, description: 'The acting user as the BFF resolved it; null when none' })
  actor!: ConsoleActorDto | null;
  @ApiProperty({ description: 'How the user logs in: "dev-stub" until #16 (OIDC) lands' })
  login!: 'dev-stub' | 'none';
  @ApiProperty({ type: [String], description: 'Services reachable under /api/<service>/' })
  services!: string[];
}

/** The console's own small API: who the BFF thinks the caller is. */
@ApiTags('console')
@Controller('api/console')
export class ConsoleController {
  constructor(@Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig) {}

  @Get('session')
  @ApiOperation({ summary: 'The resolved actor and the login mode (dev stub until #16)' })
  @ApiOkResponse({ type: SessionDto })
  session(@Headers() headers: Record<string, string | undefined>): SessionDto {
    return { actor: actorFrom(headers, this.config.devLogin), login: this.config.devLogin ? 'dev-stub' : 'none', services: Object.keys(UPSTREAMS) };
  }
}
