import { Public } from '@flowline/auth';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { BOARD_PAGE } from './board/board.page';

/** GET /board: the live tracking board for managers (static page over the REST API and SSE). */
@ApiExcludeController()
@Public()
@Controller('board')
export class BoardController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  page(): string {
    return BOARD_PAGE;
  }
}
