import { anOrderSubmission } from '@flowline/testing';
import { expect, it } from 'vitest';
import { browserTests, call, seriousA11yViolations, shot, startStack, uniqueSuffix } from './harness';

/*
 * The Rules / 规则 screen in Debian's Chromium (issue #17, "a rule edited and dry-run shows the
 * decision it would take"): order-intake as its own process and database behind the console BFF.
 * An admin edits the flow rules in the browser, the dry run against a real order shows the changed
 * decision in plain words, an invalid edit lists its problems with their paths, the save makes
 * version 2 with the admin as author, and order-intake's API answers the same. Approval chains
 * (approval as its own process) the same way: the dry run lists the steps an approval would get, a
 * draft without the designer's step shows it gone, the save is version 2. Notification rules
 * (notification as its own process): an unknown template is refused with its path. axe-core finds no
 * serious or critical violations; CONSOLE_SCREENSHOT_DIR=docs/img keeps docs/img/console-rules.png.
 */

const ui = browserTests('console rules browser test', {
  start: () => startStack([['order-intake', {}], ['approval', {}], ['notification', { NOTIFICATION_CONSUMER_GROUP: `notification-rules-${uniqueSuffix()}` }], ['tracking', { TRACKING_CONSUMER_GROUP: `tracking-rules-${uniqueSuffix()}` }]]),
});

const VIP_RULE = 'rules:\n  - id: hold-vip-review\n    when: { fact: order.tags, op: contains, value: vip-review }\n    then:\n      - { decision: hold_for_review, reason: vip order checked by a person }\n\n';

ui.describe('rules screen', () => {
  it('an admin edits a flow rule, the dry run shows the decision it would take, the save makes a new version; approval chains likewise; notification rules validated', async () => {
    const intake = ui.stack.procs['order-intake'].httpUrl;
    const channelOrderId = `RULES-${uniqueSuffix()}`;
    const placed = await call(intake, 'POST', '/api/orders', anOrderSubmission({ channelOrderId, placedAt: new Date().toISOString(), tags: ['vip-review'] }), {
      'idempotency-key': `k-${uniqueSuffix()}`,
    });
    expect(placed.status, JSON.stringify(placed.json)).toBe(201);
    const orderId = placed.json.orderId as string;
    const before = await call(intake, 'GET', '/api/rules/flow');
    expect(before.json.current.version).toBe(1);

    const page = await ui.browser.newPage('admin');
    await page.goto(`${ui.stack.console.httpUrl}/rules`);
    const editor = page.getByTestId('rules-editor');
    await editor.waitFor();
    await page.getByTestId('rules-current-version').waitFor();
    expect(await page.getByTestId('rules-current-version').textContent()).toBe('1');
    await expect.poll(() => editor.inputValue(), { timeout: 15_000 }).toBe(before.json.current.document);
    expect(await page.getByText('API', { exact: false }).filter({ hasText: '尚未提供' }).count()).toBe(0);

    // The rules in force: nothing lets the unpaid order ship, no rule holds it. Named by its
    // platform order number (what people know), found through tracking once it is there.
    const tracking = ui.stack.procs.tracking.httpUrl;
    await expect.poll(async () => (await call(tracking, 'GET', `/api/tracking/orders?q=${channelOrderId}`)).json.items?.[0]?.orderId, { timeout: 30_000 }).toBe(orderId);
    await page.getByTestId('rules-dry-order').fill(channelOrderId);
    await page.getByTestId('rules-dry-run').click();
    await page.getByTestId('rules-dry-result').waitFor().catch(async (e: unknown) => {
      throw new Error(`no dry-run result: ${(await page.locator('[role="alert"]').allTextContents()).join(' | ')} ${String(e)}`);
    });
    expect(await page.getByTestId('rules-dry-result').getAttribute('data-outcome')).toBe('blocked');
    expect(await page.getByTestId('rules-dry-outcome').textContent()).toContain('暂不放行');

    // An invalid edit: the problems with their paths.
    const original = before.json.current.document as string;
    await editor.fill(original.replace('op: contains, value: blocked', 'op: greaterThan, value: blocked'));
    await page.getByTestId('rules-validate').click();
    await page.getByTestId('rules-problems').waitFor();
    expect(await page.getByTestId('rules-problems').textContent()).toContain('rules[0].when.op');

    // The edit: a new rule holds orders tagged vip-review; the dry run shows the hold it would make.
    const edited = original.replace(/^ruleSetVersion: .*$/m, 'ruleSetVersion: "2026.12.5"').replace(/^rules:\n/m, VIP_RULE);
    await editor.fill(edited);
    await page.getByTestId('rules-validate').click();
    await page.getByTestId('rules-valid').waitFor();
    expect(await page.getByTestId('rules-valid').textContent()).toContain('2026.12.5');
    await page.getByTestId('rules-dry-run').click();
    await page.locator('[data-testid="rules-dry-result"][data-outcome="hold"]').waitFor();
    expect(await page.getByTestId('rules-dry-outcome').textContent()).toBe('挂起待人工复核（规则 hold-vip-review：vip order checked by a person）');
    // A dry run writes nothing and changes no version.
    expect((await call(intake, 'GET', '/api/rules/flow')).json.current.version).toBe(1);

    // Save with a reason: version 2, the admin as author.
    await page.getByTestId('rules-reason').fill('VIP 订单人工复核');
    await page.getByTestId('rules-save').click();
    await page.getByTestId('rules-saved').waitFor();
    expect(await page.getByTestId('rules-saved').textContent()).toContain('版本 2');
    await page.locator('[data-testid="rules-current-version"]', { hasText: '2' }).waitFor();
    const after = await call(intake, 'GET', '/api/rules/flow');
    expect(after.json.current).toMatchObject({ version: 2, label: '2026.12.5', reason: 'VIP 订单人工复核', document: edited });
    expect(after.json.current.author).not.toMatch(/^file:/);
    expect(await page.getByTestId('rules-current-author').textContent()).toBe(after.json.current.author);
    expect(await page.locator('[data-testid="rules-versions"] tbody tr.ant-table-row').count()).toBe(2);

    expect(await seriousA11yViolations(page)).toEqual([]);
    await shot(page, 'rules');

    // Approval chains: which steps an approval of custom-order would get for a 3,000 yuan order.
    await page.getByRole('tab', { name: '审批链' }).click();
    const chains = page.getByTestId('chains-editor');
    await chains.waitFor();
    const shipped = (await call(ui.stack.procs.approval.httpUrl, 'GET', '/api/rules/chains')).json.current.document as string;
    await page.getByTestId('chains-current-version').waitFor();
    await expect.poll(() => chains.inputValue(), { timeout: 15_000 }).toBe(shipped);
    await page.getByTestId('chains-dry-total').fill('3000');
    await page.getByTestId('chains-dry-run').click();
    await page.getByTestId('chains-dry-result').waitFor();
    expect(await page.getByTestId('chains-step-cost_review').getAttribute('data-skipped')).toBe('true');
    expect(await page.getByTestId('chains-step-design_review').getAttribute('data-skipped')).toBe('false');
    const edited2 = shipped.replace(/^chainSetVersion: .*$/m, 'chainSetVersion: "2026.12.5"').replace(/\n {6}- id: design_review\n {8}role: designer/, '');
    await chains.fill(edited2);
    await page.getByTestId('chains-dry-run').click();
    await page.locator('[data-testid="chains-dry-result"]', { hasText: '2026.12.5' }).waitFor();
    expect(await page.getByTestId('chains-step-design_review').count()).toBe(0);
    await page.getByTestId('chains-reason').fill('设计评审并入销售评审');
    await page.getByTestId('chains-save').click();
    await page.getByTestId('chains-saved').waitFor();
    expect(await page.getByTestId('chains-saved').textContent()).toContain('版本 2');
    expect((await call(ui.stack.procs.approval.httpUrl, 'GET', '/api/rules/chains')).json.current).toMatchObject({ version: 2, label: '2026.12.5', document: edited2 });
    expect(await seriousA11yViolations(page)).toEqual([]);

    // Notification rules: the document in force, an edit naming an unknown template refused with its path.
    await page.getByRole('tab', { name: '通知规则' }).click();
    const notif = page.getByTestId('notif-editor');
    await page.getByTestId('notif-current-version').waitFor();
    const rulesYaml = (await call(ui.stack.procs.notification.httpUrl, 'GET', '/api/rules/notifications')).json.current.document as string;
    await expect.poll(() => notif.inputValue(), { timeout: 15_000 }).toBe(rulesYaml);
    await notif.fill(rulesYaml.replace('template: order_shipped', 'template: no_such_template'));
    await page.getByTestId('notif-validate').click();
    await page.getByTestId('notif-problems').waitFor();
    expect(await page.getByTestId('notif-problems').textContent()).toContain('/rules/1');
    await page.close();
  }, 300_000);
});
