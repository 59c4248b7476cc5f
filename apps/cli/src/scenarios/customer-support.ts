import type { Scenario } from './scenario';

/**
 * 35 turns of login troubleshooting. Every probe repeats the distinctive words of
 * the turn that answers it, so that a lexical embedder finds it as surely as a neural one.
 */
export const customerSupport: Scenario = {
  name: 'customer_support',
  description: '35 turns of login troubleshooting, one topic, facts recalled across the conversation',
  steps: [
    { say: "Hi, I can't log in to my Northwind account since this morning." },
    { say: 'My login email is maria.lopez@example.com and my account number is 88412.', fact: 'account' },
    { say: 'The login page shows error code AUTH-4031 right after I type my password.', fact: 'error-code' },
    { say: 'I use Chrome version 119 on a Windows 11 laptop.', fact: 'browser' },
    { say: 'I already cleared the browser cache and cookies, same result.' },
    { say: 'My last successful login was on Tuesday evening from home.', fact: 'last-login' },
    { say: 'Which login email did I give you earlier for my account?', probe: { evidence: 'account', answer: 'maria.lopez@example.com' } },
    { say: 'I also tried the Firefox browser and got the same AUTH-4031 message.' },
    { say: 'Two-factor authentication is on, with codes from the Authy app on my phone.', fact: 'two-factor' },
    { say: 'I replaced my phone last week, so Authy was reinstalled on the new phone.', fact: 'new-phone' },
    { say: 'Which error code does the login page show me?', probe: { evidence: 'error-code', answer: 'AUTH-4031' } },
    { say: 'The Authy codes are six digits and they refresh every 30 seconds.' },
    { say: 'I replaced my phone and reinstalled Authy on the new phone: could that be why codes are rejected?', probe: { evidence: 'new-phone', answer: 'replaced my phone last week' } },
    { say: 'I requested a password reset link and it arrived from support@northwind.example.' },
    { say: 'The password reset link said it expires after 15 minutes, but I opened it too late.', fact: 'reset-expiry' },
    { say: 'I requested a second reset link and set a new password successfully.' },
    { say: 'After the new password the login still fails, now with error code AUTH-2207.', fact: 'second-error' },
    { say: 'Which browser version and laptop am I using again?', probe: { evidence: 'browser', answer: 'Chrome version 119' } },
    { say: 'I am connected through the company VPN, exit location Lisbon.', fact: 'vpn' },
    { say: 'Our company uses single sign-on through Okta for most tools, but not for Northwind.', fact: 'sso' },
    { say: 'How many minutes did the password reset link stay valid?', probe: { evidence: 'reset-expiry', answer: '15 minutes' } },
    { say: 'I disconnected the VPN and tried again from my home network.' },
    { say: 'Without the VPN the error is gone, but the two-factor step still loops back to the login page.' },
    { say: 'My support ticket number from the first email is TKT-55817.', fact: 'ticket' },
    { say: 'When was my last successful login before this problem?', probe: { evidence: 'last-login', answer: 'Tuesday evening' } },
    { say: 'I set the laptop clock to sync automatically, it was four minutes behind.', fact: 'clock' },
    { say: 'With the clock fixed the Authy codes are accepted and I can log in.' },
    { say: 'What was the second error code, after the new password?', probe: { evidence: 'second-error', answer: 'AUTH-2207' } },
    { say: 'Should I register the new phone as a trusted device in the security settings?' },
    { say: 'I added the new phone as a trusted device and saved backup codes offline.' },
    { say: 'Which VPN exit location was I connected through?', probe: { evidence: 'vpn', answer: 'Lisbon' } },
    { say: 'Please add a note that single sign-on through Okta does not cover Northwind.', probe: { evidence: 'sso', answer: 'Okta' } },
    { say: 'What is my support ticket number, so I can reference it?', probe: { evidence: 'ticket', answer: 'TKT-55817' } },
    { say: 'How far behind was the laptop clock before I fixed it?', probe: { evidence: 'clock', answer: 'four minutes behind' } },
    { say: 'Everything works now, thanks. Please confirm my account number and login email for the notes.', probe: { evidence: 'account', answer: '88412' } },
  ],
};
