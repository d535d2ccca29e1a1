import { describe, expect, it } from 'vitest';
import { analyzeSentiment, loadBaseModels, predictText } from './analyze.ts';
import { RECIPES } from './train/recipe.ts';
import { LOW_CONFIDENCE_BELOW } from './types.ts';

// Our own clear cases per language; the models are measured on the dev splits, these guard the wiring.
describe('analyzeSentiment on text', () => {
  it.each([
    ['ru', 'Отличный сервис, всё быстро доставили, спасибо!', 'positive'],
    ['ru', 'Ужасное приложение, постоянно вылетает, деньги списали дважды', 'negative'],
    ['ru', 'Банк открыл новое отделение на проспекте Абая', 'neutral'],
    ['kk', 'Өте жақсы қосымша, рахмет!', 'positive'],
    ['kk', 'Қосымша ашылмайды, ақшамды қайтарыңыз, нашар', 'negative'],
    ['kk', 'маган унамады, жаман', 'negative'],
    ['uz', 'Juda yaxshi ilova, rahmat!', 'positive'],
    ['uz', 'Ilova ishlamayapti, pulimni qaytaring, yomon', 'negative'],
    ['uz', 'Яхши дастур, рахмат', 'positive'],
    ['en', 'I love this app, the support team is amazing!', 'positive'],
    ['en', 'Worst service ever, they charged me twice and nobody answers', 'negative'],
    ['en', 'The store opens at 9am on Monday', 'neutral'],
  ] as const)('%s: %s → %s', (lang, text, label) => {
    const result = analyzeSentiment({ text });
    expect(result).toMatchObject({ label, lang, model: `${lang}-${RECIPES[lang].version}`, lowConfidence: false });
    expect(result.confidence).toBeGreaterThanOrEqual(LOW_CONFIDENCE_BELOW);
    expect(Math.sign(result.score!)).toBe(label === 'positive' ? 1 : label === 'negative' ? -1 : Math.sign(result.score!));
  });

  it('reads "не нравится" unlike "нравится"', () => {
    const liked = analyzeSentiment({ text: 'Мне нравится новое приложение', lang: 'ru' });
    const disliked = analyzeSentiment({ text: 'Мне не нравится новое приложение', lang: 'ru' });
    expect(liked.label).toBe('positive');
    expect(disliked.label).not.toBe('positive');
    expect(disliked.score!).toBeLessThan(liked.score! - 0.5);
    expect(analyzeSentiment({ text: 'Қосымша маған ұнамады', lang: 'kk' }).label).toBe('negative');
    expect(analyzeSentiment({ text: "I don't like the new app", lang: 'en' }).label).toBe('negative');
  });

  it('reports a weak guess as low confidence instead of turning it neutral', () => {
    const result = analyzeSentiment({ text: 'Ну, в целом, как обычно', lang: 'ru' });
    expect(result.confidence).toBeLessThan(LOW_CONFIDENCE_BELOW);
    expect(result.lowConfidence).toBe(true);
    expect(['negative', 'neutral', 'positive']).toContain(result.label);
  });

  it('leaves languages without a model unscored, and says so', () => {
    expect(analyzeSentiment({ text: 'Das ist wirklich sehr gut' })).toEqual({
      label: 'unscored', score: null, confidence: 0, lowConfidence: true, lang: 'other', model: 'none',
    });
  });

  it('gives class probabilities that sum to 1 and a score of P(pos) - P(neg)', () => {
    const prediction = predictText('Нормально, но доставка долгая', loadBaseModels().get('ru')!);
    const { negative = 0, neutral = 0, positive = 0 } = prediction.probabilities;
    expect(negative + neutral + positive).toBeCloseTo(1, 6);
    expect(prediction.score).toBeCloseTo(positive - negative, 6);
    expect(prediction.confidence).toBe(Math.max(negative, neutral, positive));
  });

  it('has two classes for Uzbek, whose data has no neutral', () => {
    expect(loadBaseModels().get('uz')!.classes).toEqual(['negative', 'positive']);
    expect(loadBaseModels().get('ru')!.classes).toEqual(['negative', 'neutral', 'positive']);
  });
});

describe('analyzeSentiment with a star rating', () => {
  it.each([
    [1, 'Курьер привёз заказ', 'negative'],
    [2, 'Курьер привёз заказ', 'negative'],
    [4, 'Курьер привёз заказ', 'positive'],
    [5, 'Курьер привёз заказ', 'positive'],
  ] as const)('%i★ with a plain text → %s', (rating, text, label) => {
    const result = analyzeSentiment({ text, rating });
    expect(result).toMatchObject({ label, model: 'rating+ru-v1', lowConfidence: false });
    expect(result.reason).toBeUndefined();
  });

  it('reads three stars as neutral unless the text is sure it is not', () => {
    const angry = analyzeSentiment({ text: 'Ужасное обслуживание, никогда больше', rating: 3 });
    expect(angry.label).toBe('negative');
    expect(angry.confidence).toBeGreaterThanOrEqual(0.8);
    expect(analyzeSentiment({ text: 'Отличный сервис, спасибо большое!', rating: 3 }).label).toBe('positive');
    // A text the model leans on but is not sure of does not outvote the stars.
    const text = 'Ну, в целом, как обычно';
    const unsure = analyzeSentiment({ text, lang: 'ru' });
    expect(unsure.confidence).toBeLessThan(0.8);
    expect(analyzeSentiment({ text, lang: 'ru', rating: 3 })).toMatchObject({ label: 'neutral', lowConfidence: false, model: 'rating+ru-v1' });
  });

  it('is mixed, with the reason, when the text strongly says the opposite of the stars', () => {
    const result = analyzeSentiment({ text: 'Ужасный сервис, деньги списали дважды, никогда больше', rating: 5 });
    expect(result.label).toBe('mixed');
    expect(result.reason).toMatch(/^5★ but the text reads negative \(\d\.\d\d\)$/);
    const praised = analyzeSentiment({ text: 'Отличный сервис, всё быстро доставили, спасибо!', rating: 1 });
    expect(praised.label).toBe('mixed');
    expect(praised.reason).toMatch(/^1★ but the text reads positive/);
  });

  it('blends the score toward the stars', () => {
    const result = analyzeSentiment({ text: 'Курьер привёз заказ', rating: 1 });
    expect(result.score).toBeLessThan(-0.5);
    expect(result.score).toBeGreaterThanOrEqual(-1);
  });

  it('uses the stars alone where no model reads the text', () => {
    expect(analyzeSentiment({ text: 'Ganz schlecht', rating: 1 })).toMatchObject({ label: 'negative', score: -1, model: 'rating', lang: 'other' });
  });

  it('ignores a rating outside 1..5', () => {
    expect(analyzeSentiment({ text: 'Отличный сервис, спасибо!', rating: 0 }).model).toBe('ru-v1');
  });
});
