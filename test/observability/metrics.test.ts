// GET /metrics (shared/metrics.ts): after known traffic, each counter has moved by exactly that traffic, with
// the version that served it on every series: requests and latency by route and status, dual-write time by
// strategy, reads by source, dual-read mismatches, fallbacks, the flags each instance has loaded, process metrics.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { databaseTargets, uniqueFields } from '../support/databases.ts';
import { setFlags } from '../support/flags.ts';
import { sideBySide } from '../support/instances.ts';
import type { InProcessApp } from '../support/instances.ts';
import { storedProfile, storedUser } from '../support/rows.ts';

const targets = await databaseTargets();

/** One series' value in a scrape: the line of `metric` whose labels include every given label (0 if absent). */
function seriesValue(scrape: string, metric: string, labels: Record<string, string | number>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = scrape.split('\n').find((l) => l.startsWith(`${metric}{`) && wanted.every((label) => l.slice(0, l.indexOf('}') + 1).includes(label)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const scrape = async (app: InProcessApp) => (await request(app.app).get('/metrics').expect(200)).text;

describe.each(targets)('/metrics on $name', (target) => {
  const apps = sideBySide(target);


  it.skipIf(target.skip)('When v2 answers 3 creates, 2 updates, 4 reads and 1 bad request, then each counter moves by exactly that, labelled v2', async () => {
    const before = await scrape(apps.v2);
    const created = [];
    for (let i = 0; i < 3; i++) created.push((await request(apps.v2.app).post('/users').send(uniqueFields('metrics-create')).expect(201)).body as { id: number });
    const updated = uniqueFields('metrics-update');
    await request(apps.v2.app).put(`/users/${created[0]!.id}`).send(updated).expect(200);
    await request(apps.v2.app).put(`/users/${created[1]!.id}`).send(uniqueFields('metrics-update')).expect(200);
    for (let i = 0; i < 4; i++) await request(apps.v2.app).get(`/users/${created[i % 3]!.id}`).expect(200);
    await request(apps.v2.app).post('/users').send({ name: 'no email' }).expect(400);
    const after = await scrape(apps.v2);

    const moved = (metric: string, labels: Record<string, string | number>) => seriesValue(after, metric, labels) - seriesValue(before, metric, labels);
    expect(moved('http_requests_total', { route: '/users', method: 'POST', status: 201, version: 'v2' })).toBe(3);
    expect(moved('http_requests_total', { route: '/users', method: 'POST', status: 400, version: 'v2' })).toBe(1);
    expect(moved('http_requests_total', { route: '/users/:id', method: 'PUT', status: 200, version: 'v2' })).toBe(2);
    expect(moved('http_requests_total', { route: '/users/:id', method: 'GET', status: 200, version: 'v2' })).toBe(4);
    expect(moved('http_request_duration_seconds_count', { route: '/users', method: 'POST', status: 201, version: 'v2' })).toBe(3);
    expect(moved('http_request_duration_seconds_count', { route: '/users/:id', method: 'GET', status: 200, version: 'v2' })).toBe(4);
    expect(moved('dual_write_duration_seconds_count', { strategy: 'single', operation: 'create', version: 'v2' })).toBe(3);
    expect(moved('dual_write_duration_seconds_count', { strategy: 'single', operation: 'update', version: 'v2' })).toBe(2);
    expect(moved('user_reads_total', { source: 'old', version: 'v2' })).toBe(4);
    expect(after).toMatch(/^process_cpu_user_seconds_total\{[^}]*version="v2"/m);
    // What the counters counted is in the database: the update landed in both columns.
    const row = await storedUser(apps.database.db, created[0]!.id);
    expect(row).toMatchObject(updated);
    expect(storedProfile(row!.profileRaw)).toEqual(updated);
  });

  it.skipIf(target.skip)('When v1 changes a row behind v2, then dual-read mismatches, fallbacks, reads by source and the flag gauges say so', async () => {
    const user = (await request(apps.v2.app).post('/users').send(uniqueFields('metrics-drift')).expect(201)).body as { id: number };
    const byV1 = uniqueFields('metrics-by-v1');
    await request(apps.v1.app).put(`/users/${user.id}`).send(byV1).expect(200);
    const version = await setFlags(apps.database.db, { 'dual-read': true, 'read-new-percent': 0 }, [apps.v2]);
    const before = await scrape(apps.v2);

    expect((await request(apps.v2.app).get(`/users/${user.id}`).expect(200)).body).toMatchObject(byV1);
    const compared = await scrape(apps.v2);
    await setFlags(apps.database.db, { 'dual-read': false, 'read-new-percent': 100 }, [apps.v2]);
    const read = await request(apps.v2.app).get(`/users/${user.id}`).expect(200);
    const after = await scrape(apps.v2);

    expect(read.headers['x-read-source']).toBe('fallback');
    expect(read.body).toMatchObject(byV1);
    expect(seriesValue(compared, 'dual_read_mismatches_total', { reason: 'different' }) - seriesValue(before, 'dual_read_mismatches_total', { reason: 'different' })).toBe(1);
    expect(seriesValue(compared, 'feature_flag_value', { flag: 'dual-read' })).toBe(1);
    expect(seriesValue(compared, 'feature_flag_set_version', { version: 'v2' })).toBe(version);
    expect(seriesValue(after, 'read_fallbacks_total', { reason: 'different' }) - seriesValue(compared, 'read_fallbacks_total', { reason: 'different' })).toBe(1);
    expect(seriesValue(after, 'user_reads_total', { source: 'fallback' }) - seriesValue(compared, 'user_reads_total', { source: 'fallback' })).toBe(1);
    expect(seriesValue(after, 'feature_flag_value', { flag: 'read-new-percent', version: 'v2' })).toBe(100);
    expect(seriesValue(after, 'feature_flag_value', { flag: 'dual-read' })).toBe(0);
    // v1's write is what the database holds in the old columns; profile_data still has v2's older value.
    const row = await storedUser(apps.database.db, user.id);
    expect(row).toMatchObject(byV1);
    expect(storedProfile(row!.profileRaw)).not.toEqual(byV1);
  });

  it.skipIf(target.skip)('When v1 answers requests, then its series carry version v1, never v2', async () => {
    const before = await scrape(apps.v1);
    const user = (await request(apps.v1.app).post('/users').send(uniqueFields('metrics-v1')).expect(201)).body as { id: number };
    await request(apps.v1.app).get(`/users/${user.id}`).expect(200);
    const after = await scrape(apps.v1);

    expect(seriesValue(after, 'http_requests_total', { route: '/users/:id', method: 'GET', status: 200, version: 'v1' }) - seriesValue(before, 'http_requests_total', { route: '/users/:id', method: 'GET', status: 200, version: 'v1' })).toBe(1);
    expect(after).not.toContain('version="v2"');
    expect((await storedUser(apps.database.db, user.id))!.profileRaw).toBeNull();
  });
});
