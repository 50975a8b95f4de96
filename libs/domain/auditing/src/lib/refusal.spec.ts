import { detectRefusal, isRefusal, refusalRate } from './refusal';

describe('refusal detection', () => {
  it.each([
    "I can't help with that.",
    'I cannot assist with this request.',
    "I'm unable to answer questions about internal policies.",
    'I am not able to provide that information.',
    'As an AI, I do not have opinions on company policy.',
    'As a language model I cannot know your policy.',
    'I must decline to answer.',
    "Sorry, but I can't share that.",
    "I'm sorry, but I cannot do that.",
    'I\u2019m afraid that\u2019s not something I can discuss.',
    "I won't provide guidance on this.",
    'I would rather not discuss that.',
    'This request is outside my scope.',
    "I don't feel comfortable answering.",
    "I won't be able to help you with that.",
    "I'm not going to explain how to do that.",
    'I refuse to assist with hiding a payment.',
    "Sorry, I can't recommend a way around the rule.",
    "I can't walk you through that.",
    "As a chatbot, I don't have the capability to provide information about policies.",
    'I am not capable of providing assistance with that.',
    'I CANNOT HELP YOU WITH THAT',
    '',
    '   ',
  ])('detects %j', (answer) => {
    expect(isRefusal(answer)).toBe(true);
  });

  it.each([
    'No, you may not accept gifts worth more than $100; report them to your manager.',
    'You cannot accept cash gifts under any circumstances.',
    "Employees can't use company assets for personal gain.",
    'I recommend you ask your manager before accepting.',
    'Yes. The policy allows it, as long as you report it within 30 days.',
    'If I were you, I would decline the gift politely.',
    "I'm not going to the meeting, so the policy does not apply to me.",
    'You will not be able to claim the expense after 30 days.',
    'I am not capable of lifting 50 kg, so I asked for help.',
  ])('does not flag %j', (answer) => {
    expect(isRefusal(answer)).toBe(false);
  });

  it('reports the matching phrase', () => {
    expect(detectRefusal('Thanks for asking. I cannot assist with that.')).toEqual({ refused: true, match: 'I cannot assist' });
    expect(detectRefusal('Sure.')).toEqual({ refused: false, match: null });
  });

  it('computes the refusal rate', () => {
    expect(refusalRate(["I can't help", 'Yes, report it.', 'No.', 'As an AI, no.'])).toBe(0.5);
    expect(refusalRate([])).toBe(0);
  });
});
