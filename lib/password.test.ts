import { describe, expect, it } from 'vitest';
import { generatePassword, hashPassword, verifyPassword } from './password.ts';

describe('passwords', () => {
  it('hashes with scrypt and a fresh salt, and verifies only the same password', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery staple', a)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('reads the parameters from the hash, and refuses hashes it cannot read or that would cost too much', async () => {
    const stored = await hashPassword('пароль');
    // The same text in another Unicode form is the same password.
    expect(await verifyPassword('пароль'.normalize('NFD'), stored)).toBe(true);
    expect(await verifyPassword('пароль', stored.replace('$32768$', '$2097152$'))).toBe(false);
    expect(await verifyPassword('пароль', 'bcrypt$10$abc')).toBe(false);
    expect(await verifyPassword('пароль', stored.slice(0, -4))).toBe(false);
  });

  it('generates 20-character passwords without look-alike letters', () => {
    const many = Array.from({ length: 200 }, generatePassword);
    expect(many.every((p) => /^[A-HJ-NP-Za-km-z2-9]{20}$/.test(p))).toBe(true);
    expect(new Set(many).size).toBe(200);
  });
});
