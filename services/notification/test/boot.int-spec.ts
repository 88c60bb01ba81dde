import { serviceBootSuite } from '@flowline/platform/suites';
import { testTopicPrefix, uniqueSuffix } from '@flowline/testing';
import { GRPC_SERVICE, SERVICE } from '../src/service';

// Own topics and consumer group: the real `notification` group on the shared broker is never joined.
serviceBootSuite({
  service: SERVICE.name,
  grpcService: GRPC_SERVICE,
  env: () => ({ KAFKA_TOPIC_PREFIX: testTopicPrefix(), NOTIFICATION_CONSUMER_GROUP: `notification-boot-${uniqueSuffix()}` }),
});
