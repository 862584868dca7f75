/** A notification worker: templates, channels, retries, quiet hours; jobs send a digest and check the retry policy. */
import type { BenchRepository } from './repository-kit';

export const notify: BenchRepository = {
  name: 'notify-worker',
  package: 'notify',
  entities: ['subscriber', 'topic', 'webhook', 'delivery', 'preference', 'campaign', 'segment', 'bounce'],
  coreCalls: ['render', 'backoff_delays'],
  files: {
    'notify/__init__.py': '',
    'notify/settings.py': `RETRY = {"attempts": 3, "base_delay": 1.0, "factor": 2.0}
QUIET_HOURS = (22, 7)
SMS_SENDER = "OPS"
`,
    'notify/templates.py': `TEMPLATES = {
    "welcome": "Hello {name}, welcome aboard",
    "reset": "Reset your password: {link}",
    "digest": "{count} new alerts for {name}",
}


def render(template_id, **context):
    return TEMPLATES[template_id].format(**context)
`,
    'notify/channels.py': `MAX_SMS = 160


class EmailChannel:
    name = "email"

    def send(self, to, text):
        if "@" not in to:
            raise ValueError(f"not an address: {to}")
        return {"channel": self.name, "to": to, "chars": len(text)}


class SmsChannel:
    name = "sms"

    def send(self, to, text):
        if len(text) > MAX_SMS:
            raise ValueError(f"SMS too long: {len(text)} > {MAX_SMS}")
        return {"channel": self.name, "to": to, "chars": len(text)}


CHANNELS = {"email": EmailChannel(), "sms": SmsChannel()}
`,
    'notify/retry.py': `from notify.settings import RETRY


def backoff_delays(attempts=None, base=None, factor=None):
    attempts = RETRY["attempts"] if attempts is None else attempts
    base = RETRY["base_delay"] if base is None else base
    factor = RETRY["factor"] if factor is None else factor
    return [base * factor ** i for i in range(attempts)]
`,
    'notify/schedule.py': `from notify.settings import QUIET_HOURS


def in_quiet_hours(now):
    start, end = QUIET_HOURS
    return now.hour >= start or now.hour < end


def next_send_time(now):
    if not in_quiet_hours(now):
        return now
    _, end = QUIET_HOURS
    return now.replace(hour=end, minute=0, second=0, microsecond=0)
`,
    'notify/dispatcher.py': `from notify.channels import CHANNELS
from notify.schedule import next_send_time
from notify.templates import render


def dispatch(notification, now):
    text = render(notification["template"], **notification["context"])
    when = next_send_time(now)
    result = CHANNELS[notification["channel"]].send(notification["to"], text)
    result["at"] = when.isoformat()
    return result
`,
    'jobs/__init__.py': '',
    'jobs/send_digest.py': `"""Send the morning digest and the queued password resets."""
import sys, os
from datetime import datetime
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from notify.dispatcher import dispatch

QUEUE = [
    {"template": "digest", "channel": "sms", "to": "+4915100000", "context": {"count": 3, "name": "Ana"}},
    {"template": "reset", "channel": "email", "to": "bo@example.com", "context": {"link": "https://x.example/r/1"}},
]


def main():
    now = datetime(2026, 3, 1, 23, 30)
    for item in QUEUE:
        print(dispatch(item, now))


if __name__ == "__main__":
    main()
`,
    'jobs/check_retry_policy.py': `"""The retry policy operations agreed on: three tries, one, two, four seconds apart."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from notify.retry import backoff_delays


def main():
    delays = backoff_delays()
    assert delays == [1.0, 2.0, 4.0], f"retry delays are {delays}"
    print("policy ok")


if __name__ == "__main__":
    main()
`,
  },
  cases: [
    {
      id: 'notify-retry-attempts',
      file: 'notify/settings.py',
      find: '"attempts": 3,',
      replace: '"attempts": 2,',
      run: 'jobs/check_retry_policy.py',
      mustChange: { file: 'notify/settings.py', symbol: '<module>' },
    },
    {
      id: 'notify-backoff-formula',
      file: 'notify/retry.py',
      find: 'base * factor ** i',
      replace: 'base * factor * i',
      run: 'jobs/check_retry_policy.py',
      mustChange: { file: 'notify/retry.py', symbol: 'backoff_delays' },
    },
    {
      id: 'notify-template-placeholder',
      file: 'notify/templates.py',
      find: '"reset": "Reset your password: {link}",',
      replace: '"reset": "Reset your password: {url}",',
      run: 'jobs/send_digest.py',
      mustChange: { file: 'notify/templates.py', symbol: '<module>' },
    },
    {
      id: 'notify-sms-limit',
      file: 'notify/channels.py',
      find: 'MAX_SMS = 160',
      replace: 'MAX_SMS = 16',
      run: 'jobs/send_digest.py',
      mustChange: { file: 'notify/channels.py', symbol: '<module>' },
    },
    {
      id: 'notify-quiet-end',
      file: 'notify/schedule.py',
      find: 'return now.replace(hour=end, minute=0, second=0, microsecond=0)',
      replace: 'return now.replace(hour=end + 24, minute=0, second=0, microsecond=0)',
      run: 'jobs/send_digest.py',
      mustChange: { file: 'notify/schedule.py', symbol: 'next_send_time' },
    },
  ],
};
