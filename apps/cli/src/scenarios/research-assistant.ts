import type { Scenario } from './scenario';

/**
 * 36 turns over six research topics, each with exact figures stated early and asked for
 * later, after the conversation has moved on. Probes repeat the evidence's distinctive words.
 */
export const researchAssistant: Scenario = {
  name: 'research_assistant',
  description: '36 turns across six topics with exact numeric facts recalled after topic switches',
  steps: [
    { say: "I'm writing a survey on the cost of training large language models. Let's collect figures." },
    { say: 'Note: GPT-3 training emitted about 552 tCO2e according to Patterson et al. 2021.', fact: 'gpt3-co2' },
    { say: 'Same paper: GPT-3 training used about 1,287 MWh of electricity.', fact: 'gpt3-energy' },
    { say: 'GPT-3 has 175 billion parameters and was trained on about 300 billion tokens.', fact: 'gpt3-size' },
    { say: 'Now the Transformer paper from 2017, Attention Is All You Need.' },
    { say: 'The Transformer base model trained for 12 hours on 8 NVIDIA P100 GPUs.', fact: 'transformer-base' },
    { say: 'The Transformer big model trained for 3.5 days and reached 28.4 BLEU on WMT 2014 English-German.', fact: 'transformer-big' },
    { say: 'How many tCO2e did GPT-3 training emit?', probe: { evidence: 'gpt3-co2', answer: '552 tCO2e' } },
    { say: 'Next topic: BERT. BERT-large has 340 million parameters, BERT-base has 110 million.', fact: 'bert' },
    { say: 'BERT was pre-trained on BooksCorpus plus English Wikipedia, about 3.3 billion words.', fact: 'bert-data' },
    { say: 'How many hours did the Transformer base model train, and on how many P100 GPUs?', probe: { evidence: 'transformer-base', answer: '12 hours' } },
    { say: 'Switching to scaling laws: the Chinchilla model has 70 billion parameters.', fact: 'chinchilla-size' },
    { say: 'Chinchilla was trained on 1.4 trillion tokens, roughly 20 tokens per parameter.', fact: 'chinchilla-tokens' },
    { say: 'Chinchilla beat Gopher, which has 280 billion parameters, on most benchmarks.', fact: 'gopher' },
    { say: 'How many parameters does BERT-large have compared with BERT-base?', probe: { evidence: 'bert', answer: '340 million' } },
    { say: 'Now computer vision history: ImageNet, the ILSVRC training set.' },
    { say: 'The ImageNet ILSVRC training set has 1.28 million images in 1,000 classes.', fact: 'imagenet' },
    { say: 'AlexNet won ILSVRC 2012 with a top-5 error of 15.3 percent.', fact: 'alexnet' },
    { say: 'ResNet-152 won ILSVRC 2015 with a top-5 error of 3.57 percent.', fact: 'resnet' },
    { say: 'How much electricity in MWh did GPT-3 training use?', probe: { evidence: 'gpt3-energy', answer: '1,287 MWh' } },
    { say: 'Next: data centre efficiency. Google reported a fleet-wide PUE of 1.10 for 2021.', fact: 'pue' },
    { say: 'The industry average PUE in the Uptime Institute 2021 survey was 1.57.', fact: 'pue-industry' },
    { say: 'On how many tokens was Chinchilla trained, and how many tokens per parameter?', probe: { evidence: 'chinchilla-tokens', answer: '1.4 trillion tokens' } },
    { say: 'Last topic: protein structure. AlphaFold2 reached a median GDT of 92.4 at CASP14.', fact: 'alphafold' },
    { say: 'The AlphaFold Protein Structure Database passed 200 million predicted structures in 2022.', fact: 'alphafold-db' },
    { say: 'What top-5 error did AlexNet get at ILSVRC 2012?', probe: { evidence: 'alexnet', answer: '15.3 percent' } },
    { say: 'What BLEU score did the Transformer big model reach on WMT 2014 English-German?', probe: { evidence: 'transformer-big', answer: '28.4 BLEU' } },
    { say: 'Let me draft the conclusions section now.' },
    { say: 'What fleet-wide PUE did Google report for 2021?', probe: { evidence: 'pue', answer: '1.10' } },
    { say: 'How many images and classes are in the ImageNet ILSVRC training set?', probe: { evidence: 'imagenet', answer: '1.28 million images' } },
    { say: 'What median GDT did AlphaFold2 reach at CASP14?', probe: { evidence: 'alphafold', answer: '92.4' } },
    { say: 'How many parameters does GPT-3 have, and on how many billion tokens was it trained?', probe: { evidence: 'gpt3-size', answer: '175 billion parameters' } },
    { say: 'How many parameters does Gopher have, the model Chinchilla beat?', probe: { evidence: 'gopher', answer: '280 billion parameters' } },
    { say: 'What was the industry average PUE in the Uptime Institute 2021 survey?', probe: { evidence: 'pue-industry', answer: '1.57' } },
    { say: 'How many predicted structures did the AlphaFold Protein Structure Database pass in 2022?', probe: { evidence: 'alphafold-db', answer: '200 million' } },
    { say: 'What ResNet-152 top-5 error at ILSVRC 2015 should I cite?', probe: { evidence: 'resnet', answer: '3.57 percent' } },
  ],
};
