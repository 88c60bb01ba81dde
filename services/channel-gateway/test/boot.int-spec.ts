import { serviceBootSuite } from '@flowline/platform/suites';
import { GRPC_SERVICE, SERVICE } from '../src/service';

serviceBootSuite({ service: SERVICE.name, grpcService: GRPC_SERVICE });
