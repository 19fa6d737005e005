/** What both dashboards share: the replica filter, the rate window, the firing-alerts annotation. */
export const R = 'replica=~"$replica"';
export const RATE = '$__rate_interval';

/** Every alert while it fires (Prometheus's ALERTS series). */
export const FIRING = {
  name: 'Alerts firing',
  expr: 'ALERTS{alertstate="firing"}',
  text: '{{alertname}} {{replica}} ({{severity}})',
  color: 'red',
};
